# The newest archive a standby's transfer staged in directory $1, or nothing when none is: newest by time,
# which the transfer keeps from the primary (rsync -t), so it is the primary's latest backup. The names are the
# backup tool's own (the transfer checks them), with no newline in them.
newest_staged() {
  local staged
  staged=$(find "$1" -maxdepth 1 -type f -name '*.tar' -printf '%T@ %p\n' 2> /dev/null) || true
  sort -r -n <<< "$staged" | head -n 1 | cut -d' ' -f2-
}
