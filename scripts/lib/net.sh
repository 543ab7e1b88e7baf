# shellcheck shell=bash
# Small network probes used by scripts/services (pure bash, no extra packages).

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# amqp_ready HOST PORT: true if the peer answers the AMQP 0-9-1 protocol
# header with a connection.start method frame
# (frame type 1, channel 0, size(4), class 10, method 10).
amqp_ready() {
  local got
  got=$(timeout 5 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "AMQP\000\000\011\001" >&3
      head -c 11 <&3 | od -An -tx1 | tr -d " \n"' _ "$1" "$2" 2>/dev/null) || return 1
  [[ $got == 010000????????000a000a ]]
}
