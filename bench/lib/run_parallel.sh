# Sourced by the bench scripts: run_parallel JOBS COMMANDS runs every line of the file COMMANDS, JOBS at a time.
# A line is a folder, then the `peft` arguments that fill it, tab-separated; each run's output goes to <folder>.log,
# and a failed run is named with its log's last line (the others still run; run_parallel then fails).
# Needs $peft (the peft executable) and $bench (the calling script's name, for messages).

run_one() {
  local folder=$1
  shift
  mkdir -p "$(dirname "$folder")"
  if ! "$peft" "$@" >"$folder.log" 2>&1; then
    echo "$bench: failed: $folder (log $folder.log): $(tail -n 1 "$folder.log")" >&2
    return 1
  fi
}

run_parallel() {
  local jobs=$1 commands=$2
  export -f run_one
  export peft bench
  # xargs -d '\n' hands each line to bash, which splits it on tabs into the folder and the arguments.
  xargs -d '\n' -P "$jobs" -I{} bash -c 'IFS=$'"'"'\t'"'"' read -r -a a <<<"$1"; run_one "${a[@]}"' _ {} <"$commands"
}
