# SPDX-License-Identifier: MIT OR GPL-2.0-only
# A Ruby program with a known call tree, forced collections and a known
# number of allocations, for tests/lang/test_lang_tools.sh.
#   tree: top -> mid(3) -> leaf x3, mid(2) -> leaf x2
#   gc: 3 GC.start, then prints GC.count (every collection, forced or not)
#   objects: 7 Widget
# No TracePoint here: usdtkit -c enables the one ruby's method probes need.
class Widget
end

def leaf(i)
  i + 1
end

def mid(n)
  s = 0
  i = 0
  while i < n
    s += leaf(i)
    i += 1
  end
  s
end

def top
  mid(3) + mid(2)
end

top
keep = []
j = 0
while j < 7
  keep << Widget.new
  j += 1
end
3.times { GC.start }
puts "gc_count=#{GC.count}"
