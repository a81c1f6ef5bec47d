# Built by scripts/build.js (npm install), which points node-gyp at the
# headers of the node that runs it, so nothing is downloaded.
{
  "targets": [
    {
      "target_name": "usdtkit",
      "sources": ["src/usdtkit.c"],
      "include_dirs": ["<!(node scripts/build.js --include-dir)"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "defines": ["_GNU_SOURCE"],
      "libraries": ["-ldl", "-lpthread", "-lm"]
    }
  ]
}
