#!/bin/sh
# python3 doing real work (JSON round trip, sorting, threads, a C++-free
# stdlib full of small allocations, python3 and sort(1) children through
# subprocess, fed and read through pipes) under the backend, output compared
# with a plain run; the script also asks the library which backend served it.
set -u
. "$(dirname "$0")/common.sh"
require python3

script=$(mktemp) && register_cleanup "$script"
cat >"$script" <<'PY'
import ctypes, hashlib, json, os, random, subprocess, sys, threading

random.seed(7)
records = [{"id": i, "name": "user%05d" % i, "tags": [random.choice("abcdef") * random.randint(1, 9) for _ in range(5)],
            "score": random.random()} for i in range(60000)]
text = json.dumps(records, sort_keys=True)
assert json.loads(text) == records
records.sort(key=lambda r: (r["tags"][0], -r["score"]))
words = sorted(set(" ".join(" ".join(r["tags"]) for r in records).split()))

results = [None] * 4
def work(slot):
    local = {}
    for i in range(40000):
        key = "k%d" % ((i * 7919 + slot) % 5000)
        local[key] = local.get(key, "") + chr(97 + i % 26)
    results[slot] = hashlib.sha256(json.dumps(local, sort_keys=True).encode()).hexdigest()
threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
for t in threads: t.start()
for t in threads: t.join()

print(hashlib.sha256(text.encode()).hexdigest())
print(records[0]["id"], records[-1]["id"], len(words))
print(" ".join(results))

def backend_name():
    try:
        lib = ctypes.CDLL(None)
        lib.heapswitch_backend_name.restype = ctypes.c_char_p
        return lib.heapswitch_backend_name().decode()
    except AttributeError:
        return "(not loaded)"

# Children through subprocess (fork and exec, pipes): they inherit
# LD_PRELOAD and the backend, and must give the same answers as this process.
child_code = """
import ctypes, hashlib, json, sys
data = json.loads(sys.stdin.read())
data.sort(key=lambda r: (-r["score"], r["id"]))
try:
    lib = ctypes.CDLL(None)
    lib.heapswitch_backend_name.restype = ctypes.c_char_p
    backend = lib.heapswitch_backend_name().decode()
except AttributeError:
    backend = "(not loaded)"
print(backend)
print(hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest())
"""
part = records[:8000]
want = hashlib.sha256(json.dumps(sorted(part, key=lambda r: (-r["score"], r["id"])),
                                 sort_keys=True).encode()).hexdigest()
children = [subprocess.Popen([sys.executable, "-c", child_code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True) for _ in range(3)]
for child in children:
    out, _ = child.communicate(json.dumps(part))
    assert child.returncode == 0, child.returncode
    backend, digest = out.splitlines()
    assert backend == backend_name(), (backend, backend_name())
    assert digest == want, "a child sorted differently"
lines = ["%s %08d" % (r["name"], int(r["score"] * 1e8)) for r in records[:30000]]
random.shuffle(lines)
sorted_out = subprocess.run(["sort"], input="\n".join(lines) + "\n", capture_output=True,
                            text=True, check=True, env=dict(os.environ, LC_ALL="C")).stdout
assert sorted_out.splitlines() == sorted(lines), "sort(1) and sorted() disagree"
print(want, hashlib.sha256(sorted_out.encode()).hexdigest())

print("backend:", backend_name(), file=sys.stderr)
PY

compare_with_plain "python3 json/sort/threads/subprocess" python3 "$script"
