# Sourced by the scripts that run `hvagent sim-host` and `hvagent run` side by side (loop-stall.sh,
# soak.sh): `agent_pair NAME [BIN]` sets BIN (the debug build unless given), DIR (a scratch
# directory), HOST_PID and AGENT_PID (to be filled by the caller), and a trap that stops both
# processes and removes DIR on exit.
agent_pair() {
  BIN=${2:-}
  if [ -z "$BIN" ]; then
    swift build --product hvagent >&2
    BIN=$(swift build --show-bin-path)/hvagent
  fi
  DIR=$(mktemp -d "/tmp/hvagent-$1.XXXXXX")
  HOST_PID=""
  AGENT_PID=""
  trap agent_pair_cleanup EXIT
}

agent_pair_cleanup() {
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
  [ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
