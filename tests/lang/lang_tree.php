<?php
// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A PHP program with a known call tree, for tests/lang/test_lang_tools.c.
//   tree: top -> mid(3) -> leaf x3, mid(2) -> leaf x2
function leaf($i) { return $i + 1; }
function mid($n) { $s = 0; for ($i = 0; $i < $n; $i++) { $s += leaf($i); } return $s; }
function top() { return mid(3) + mid(2); }
top();
