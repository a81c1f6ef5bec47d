#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""aarch64 probe points, checked from outside the program.

Run on the build host:  verify_probe_points.py PROGRAM QEMU SYSROOT GDB OBJDUMP READELF
                        verify_probe_points.py --specs READELF OBJECT...

1. The runtime provider's stubs, written out by PROGRAM, disassemble as
   `nop; ret` with brk padding (aarch64 objdump).
2. Every note's specs follow AAPCS64 at the stub entry: x0..x7, then [sp],
   [sp, 8].. for runtime probes; header probes name only operands a reader
   can evaluate (registers, [reg, imm], constants; no symbol parts).
3. PROGRAM runs under qemu-user with its gdb stub; gdb-multiarch stops at
   each probe address (runtime stubs found at pp_checkpoint, header probes
   from the notes), evaluates each spec operand against the registers and
   memory there, and compares with the values being fired (pp_expect).
   At header probes gdb's own stap-probe parser ($_probe_argN) must agree.

--specs: every argument spec in the objects' stapsdt notes (the header
fixtures, C and C++, -O0 and -O2) is a form a reader can evaluate at the
probe: xN, [xN], [xN, imm], [sp], [sp, imm] or a constant.

Prints one line per failure and "N passed, N failed"; exit 0 when none failed.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

SPEC = re.compile(r"^(-?)(1|2|4|8)(f?)@(.+)$")


def split_specs(text):
    """Specs are separated by spaces outside brackets ("8@[sp, 8]" is one)."""
    return re.findall(r"(?:[^\s\[]|\[[^\]]*\])+", text or "")


def expected_runtime_spec(n):
    """AAPCS64 at the stub's first instruction, for the runtime's type cycle."""
    signed = [True, False, False, True, False, True, True, False, True, False, True, False]
    out = []
    for i in range(n):
        size = [4, 8, 8, 1, 2, 8, 2, 1, 4, 8, 1, 8][i]
        where = "x%d" % i if i < 8 else ("[sp]" if i == 8 else "[sp, %d]" % (8 * (i - 8)))
        out.append("%s%d@%s" % ("-" if signed[i] else "", size, where))
    return " ".join(out)


def in_gdb():
    import gdb  # noqa: F401  (only inside gdb)

    results = {"passed": 0, "failed": [], "checked_operands": 0, "probes": 0, "gdb_operands": 0}
    hdr = json.loads(os.environ["PP_HEADER_NOTES"])
    inf = gdb.selected_inferior()

    def u64(v):
        return int(v) & 0xFFFFFFFFFFFFFFFF

    def reg(name):
        return u64(gdb.parse_and_eval("$" + name))

    def mem64(addr):
        return int.from_bytes(bytes(inf.read_memory(addr, 8)), "little")

    def operand(text):
        m = re.fullmatch(r"x(\d+)|sp", text)
        if m:
            return reg(text)
        m = re.fullmatch(r"-?\d+", text)
        if m:
            return int(text) & 0xFFFFFFFFFFFFFFFF
        m = re.fullmatch(r"\[(x\d+|sp)(?:, #?(-?\d+))?\]", text)
        if m:
            return mem64((reg(m.group(1)) + int(m.group(2) or 0)) & 0xFFFFFFFFFFFFFFFF)
        raise ValueError("operand no reader can evaluate: " + text)

    def canon(raw, size, signed):
        v = raw & ((1 << (8 * size)) - 1)
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v & 0xFFFFFFFFFFFFFFFF

    def check(where, specs, argc, gdb_args):
        expect = gdb.parse_and_eval("pp_expect")
        parts = split_specs(specs)
        if len(parts) != argc:
            results["failed"].append("%s: %d specs for %d args: %r" % (where, len(parts), argc, specs))
            return
        ok = True
        for i, s in enumerate(parts):
            m = SPEC.match(s)
            if not m:
                results["failed"].append("%s: bad spec %r" % (where, s))
                ok = False
                continue
            size, signed = int(m.group(2)), m.group(1) == "-"
            try:
                got = canon(operand(m.group(4)), size, signed)
            except (ValueError, gdb.error) as e:
                results["failed"].append("%s arg %d (%s): %s" % (where, i, s, e))
                ok = False
                continue
            want = canon(u64(expect[i]), size, signed)
            results["checked_operands"] += 1
            if got != want:
                results["failed"].append("%s arg %d (%s): read %#x, fired %#x" % (where, i, s, got, want))
                ok = False
            if gdb_args:
                try:
                    theirs = canon(u64(gdb.parse_and_eval("$_probe_arg%d" % i)), size, signed)
                except gdb.error as e:
                    results["failed"].append("%s arg %d (%s): gdb: %s" % (where, i, s, e))
                    ok = False
                    continue
                results["gdb_operands"] += 1
                if theirs != want:
                    results["failed"].append("%s arg %d (%s): gdb's $_probe_arg%d %#x, fired %#x"
                                             % (where, i, s, i, theirs, want))
                    ok = False
        results["probes"] += 1
        if ok:
            results["passed"] += 1

    gdb.execute("break pp_checkpoint", to_string=True)
    while True:
        try:
            gdb.execute("continue", to_string=True)
        except gdb.error:
            break
        if not inf.pid or not inf.threads():
            break
        frame = gdb.selected_frame()
        if frame.name() != "pp_checkpoint":
            break
        addr, specp, argc = reg("x0"), reg("x1"), reg("x2") & 0xFFFFFFFF
        if addr:
            specs = bytes(inf.read_memory(specp, 512)).split(b"\0")[0].decode() if specp else ""
            want = expected_runtime_spec(argc)
            if specs != want:
                results["failed"].append("pp:n%d: specs %r, AAPCS64 says %r" % (argc, specs, want))
            where = "pp:n%d@%#x" % (argc, addr)
            use_gdb = False
        else:
            name, argc = {13: ("typed", 12), 14: ("glob", 3)}.get(argc, ("a%d" % argc, argc))
            note = hdr.get(name)
            if not note:
                results["failed"].append("pp_hdr:%s: no note" % name)
                continue
            addr, specs = note["pc"], note["args"]
            where = "pp_hdr:%s@%#x" % (name, addr)
            # gdb 13's aarch64 stap parser rejects the "8f@" float marker
            use_gdb = "f@" not in specs
        gdb.execute("tbreak *%#x" % addr, to_string=True)
        gdb.execute("continue", to_string=True)
        if reg("pc") != addr:
            results["failed"].append("%s: stopped at %#x instead" % (where, reg("pc")))
            continue
        check(where, specs, argc, use_gdb)
    with open(os.environ["PP_RESULT"], "w") as f:
        json.dump(results, f)


def header_notes(readelf, prog):
    out = subprocess.run([readelf, "-n", "--wide", prog], capture_output=True, text=True, check=True).stdout
    notes, cur = {}, None
    for line in out.splitlines():
        line = line.strip()
        m = re.search(r"Provider: (\S+)", line)
        if m:
            cur = {"provider": m.group(1)}
        elif cur is not None and line.startswith("Name:"):
            cur["name"] = line.split(":", 1)[1].strip()
        elif cur is not None and line.startswith("Location:"):
            cur["pc"] = int(line.split()[1].rstrip(","), 16)
        elif cur is not None and line.startswith("Arguments:"):
            cur["args"] = line.split(":", 1)[1].strip()
            if cur["provider"] == "pp_hdr":
                notes[cur["name"]] = cur
            cur = None
        if cur is not None and cur["provider"] == "pp_hdr" and "pc" in cur:
            # probes without arguments print no Arguments line
            notes.setdefault(cur["name"], dict(cur, args=""))
    return notes


def check_stubs(objdump, image, fails):
    out = subprocess.run([objdump, "-d", "-j", ".text", image], capture_output=True, text=True).stdout
    stubs = re.findall(r"^[0-9a-f]+ <(n\d+)>:\n((?:\s+[0-9a-f]+:.*\n?)+)", out, re.M)
    if len(stubs) != 13:
        fails.append("objdump: %d stubs in the image, expected 13" % len(stubs))
        return 0
    good = 0
    for name, body in stubs:
        insns = [l.split("\t")[2].split()[0] if len(l.split("\t")) > 2 else "" for l in body.strip().splitlines()]
        words = [l.split("\t")[1].strip() for l in body.strip().splitlines()]
        if insns[:2] == ["nop", "ret"] and words[:2] == ["d503201f", "d65f03c0"] and \
                all(w == "d4207d00" for w in words[2:]) and len(words) == 4:
            good += 1
        else:
            fails.append("objdump %s: %s" % (name, " ".join(words)))
    return good


EVALUABLE = re.compile(r"^-?(1|2|4|8)f?@(x([0-9]|[12][0-9]|30)|-?\d+|\[(x([0-9]|[12][0-9]|30)|sp)(, -?\d+)?\])$")


def check_specs(readelf, objects):
    passed, fails = 0, []
    for obj in objects:
        out = subprocess.run([readelf, "-n", "--wide", obj], capture_output=True, text=True,
                             check=True).stdout
        specs = [s for line in re.findall(r"Arguments: (.*)", out) for s in split_specs(line)]
        bad = [s for s in specs if not EVALUABLE.match(s)]
        if not specs:
            fails.append("%s: no argument specs" % obj)
        for s in bad:
            fails.append("%s: %s" % (os.path.basename(obj), s))
        if specs and not bad:
            passed += 1
        print("%s: %d specs" % (os.path.basename(obj), len(specs)))
    for f in fails:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (passed, len(fails)))
    return 1 if fails else 0


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--specs":
        return check_specs(sys.argv[2], sys.argv[3:])
    if len(sys.argv) != 7:
        print("usage: verify_probe_points.py PROGRAM QEMU SYSROOT GDB OBJDUMP READELF", file=sys.stderr)
        return 2
    prog, qemu, sysroot, gdbbin, objdump, readelf = sys.argv[1:]
    fails, passed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "pp.so")
        # Plain run: the program works, and writes its image.
        r = subprocess.run([qemu, "-L", sysroot, prog, image], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            print("probe_points failed: " + (r.stderr or r.stdout).strip())
            print("0 passed, 1 failed")
            return 1
        good = check_stubs(objdump, image, fails)
        passed += good
        notes = header_notes(readelf, prog)
        for name, n in notes.items():
            for s in split_specs(n["args"]):
                if ":" in s.split("@", 1)[1]:
                    fails.append("pp_hdr:%s: symbolic operand %s" % (name, s))
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = dict(os.environ, PP_HEADER_NOTES=json.dumps(notes), PP_RESULT=os.path.join(tmp, "r.json"))
        q = subprocess.Popen([qemu, "-L", sysroot, "-g", str(port), prog], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            g = subprocess.run([gdbbin, "-nx", "-batch", "-ex", "set pagination off",
                                "-ex", "set auto-solib-add off", "-ex", "set sysroot " + sysroot,
                                "-ex", "file " + prog, "-ex", "target remote 127.0.0.1:%d" % port,
                                "-x", os.path.abspath(__file__)],
                               env=env, capture_output=True, text=True, timeout=240)
        finally:
            try:
                q.wait(timeout=30)
            except subprocess.TimeoutExpired:
                q.kill()
                q.wait()
        try:
            with open(env["PP_RESULT"]) as f:
                res = json.load(f)
        except OSError:
            print("gdb gave no result: " + g.stderr.strip()[-2000:])
            print("%d passed, 1 failed" % passed)
            return 1
    fails += res["failed"]
    passed += res["passed"]
    # 13 runtime probes fired two ways, 13 header probes, the typed one, globals
    if res["probes"] != 2 * 13 + 15:
        fails.append("stopped at %d probe points, expected %d" % (res["probes"], 2 * 13 + 15))
    for f in fails:
        print("FAIL: " + f)
    print("probe points: %d stops, %d operands read and compared (%d also by gdb's stap parser); "
          "stubs: %d disassembled" % (res["probes"], res["checked_operands"], res["gdb_operands"], good))
    print("%d passed, %d failed" % (passed, len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    try:
        import gdb  # noqa: F401
        in_gdb()
    except ImportError:
        sys.exit(main())
