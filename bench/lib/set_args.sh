# Sourced by the bench scripts: set_args "KEY=VALUE KEY=VALUE ..." fills the array `args` with one `--set KEY=VALUE`
# pair per word (no word may hold a space), for a `peft run` of a job written as a line of its script's table.
set_args() {
  local -a sets=()
  read -r -a sets <<<"$1"
  args=()
  local set
  for set in ${sets[@]+"${sets[@]}"}; do args+=(--set "$set"); done
}
