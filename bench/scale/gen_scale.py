#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Writes an x86-64 assembly program with N USDT probes (one location each),
for the scale benchmark and tests: `gen_scale.py N out.S [--fold K]`.

The notes are laid out as <sys/sdt.h> lays them out (.note.stapsdt,
.stapsdt.base); assembling is seconds where compiling 100 000 probe sites
from C would take minutes. With --fold K, every K consecutive probes share
one address, as when a linker folds identical code.
"""
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    fold = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--fold" else 1
    lines = [
        "\t.text",
        "\t.globl main",
        "\t.type main, @function",
        "main:",
        "\txor %eax, %eax",
        "\tret",
    ]
    for i in range(0, n, fold):
        lines.append(f".Lp{i}:\n\tnop")
    lines.append("\tret")
    lines.append('\t.section .stapsdt.base,"aG",@progbits,.stapsdt.base,comdat')
    lines.append("\t.weak _.stapsdt.base\n\t.hidden _.stapsdt.base")
    lines.append("_.stapsdt.base:\n\t.space 1")
    lines.append('\t.section .note.stapsdt,"?","note"')
    for i in range(n):
        site = i - i % fold
        lines.append(
            "\t.balign 4\n\t.4byte 992f-991f, 994f-993f, 3\n"
            '991:\t.asciz "stapsdt"\n992:\t.balign 4\n'
            f"993:\t.8byte .Lp{site}\n\t.8byte _.stapsdt.base\n\t.8byte 0\n"
            f'\t.asciz "scale"\n\t.asciz "p{i}"\n\t.asciz "-4@%edi 8@%rsi"\n'
            "994:\t.balign 4"
        )
    lines.append('\t.section .note.GNU-stack,"",@progbits')
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    import os

    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
