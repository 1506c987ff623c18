# What neither the file sync nor a restore takes from the other site into fs/: anything but regular files,
# directories and links that stay inside the tree, and any file with the setuid or setgid bit. Each finder prints
# one line per refused entry, `WHY<TAB>NAME`, NAME as the listing shows it.
# refusal(perms): why an entry with this ls-style mode string (type letter, then rwx triplets) is refused, or "".
REFUSAL_AWK='
function refusal(perms, kind) {
  kind = substr(perms, 1, 1)
  if (kind == "c" || kind == "b") return "a device node"
  if (kind == "p") return "a FIFO"
  if (kind == "s") return "a socket"
  if (kind != "-" && kind != "d" && kind != "l" && kind != "h") return "of type " kind
  # On a directory, setgid only makes new files take its group.
  if (kind != "d" && substr(perms, 4, 1) ~ /[sS]/) return "setuid"
  if (kind != "d" && substr(perms, 7, 1) ~ /[sS]/) return "setgid"
  return ""
}'
# refused_in_rsync_listing: stdin is `rsync --list-only -r` of the tree (mode, size, date, time, name: the first four
# hold no blank, so the name is the rest, whatever it holds). Links are not followed there; the sync's --safe-links
# refuses those that leave the tree, and rsync names them.
refused_in_rsync_listing() {
  awk "$REFUSAL_AWK"'
    { why = refusal($1); name = $0; sub(/^[^ ]+ +[^ ]+ [^ ]+ [^ ]+ /, "", name) }
    why != "" { printf "%s\t%s\n", why, name }'
}
# refused_in_fs_tar TAR: the entries of a backup's fs.tar (docker cp of the fs directory, so every name is fs or
# below it) that a restore must not hand to docker cp. GNU tar lists names as stored (--absolute-names) and
# C-quoted (--quoting-style=c), so a quote, a newline or " -> " inside a name cannot be mistaken for its end.
refused_in_fs_tar() {
  tar --numeric-owner --absolute-names --quoting-style=c -tvf "$1" | awk "$REFUSAL_AWK"'
    function quoted(text) { return match(text, /^"([^"\\]|\\.)*"/) ? substr(text, 2, RLENGTH - 2) : "" }
    # A hard link names another member, from the top of the archive: it must be one below fs/.
    function below_fs(target) { return substr(target, 1, 3) == "fs/" && target !~ /(^|\/)\.\.(\/|$)/ }
    # Whether a link target, read from the directory holding the entry `name`, stays inside fs/.
    function inside(name, target,   depth, parts, count, i) {
      if (target == "" || substr(target, 1, 1) == "/") return 0
      depth = split(name, parts, "/") - 1
      count = split(target, parts, "/")
      for (i = 1; i <= count; i++) {
        if (parts[i] == "..") depth--
        else if (parts[i] != "." && parts[i] != "") depth++
        if (depth < 1) return 0
      }
      return 1
    }
    {
      rest = $0
      sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ /, "", rest)
      name = quoted(rest)
      tail = substr(rest, length(name) + 3)
      why = refusal($1)
      if (name == "") why = "an unreadable name"
      else if (substr(name, 1, 1) == "/") why = "an absolute name"
      else if (name != "fs/" && substr(name, 1, 3) != "fs/") why = "outside fs/"
      else if (name ~ /(^|\/)\.\.(\/|$)/) why = "a name with .."
      else if (why == "" && substr($1, 1, 1) == "l" && !inside(name, quoted(substr(tail, 5)))) why = "a link out of fs/"
      else if (why == "" && substr($1, 1, 1) == "h" && !below_fs(quoted(substr(tail, 10)))) why = "a link out of fs/"
      if (why != "") printf "%s\t%s\n", why, (name == "" ? rest : name)
    }'
}
# named_refusals: the finders' lines as one phrase for a message, `NAME (WHY), …`, the first 20 of them.
named_refusals() {
  awk '
    NR <= 20 { why = $0; sub(/\t.*/, "", why); name = substr($0, length(why) + 2); printf "%s%s (%s)", (NR > 1 ? ", " : ""), name, why }
    END { if (NR > 20) printf ", and %d more", NR - 20 }'
}
