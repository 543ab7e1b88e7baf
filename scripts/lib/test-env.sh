# Sourced by scripts/test (and scripts/check-deb): the suites see only the
# environment they set, never the caller's shell. A user of the command has
# JETL_JIRA_TOKEN, JETL_DB or PGHOST exported; each would change what a test
# sees (the environment overrides the configuration file, libpq reads PG*),
# so every JETL_*, PG* and AMQP* variable is removed, except the ones that
# choose this checkout's private services and build:
#   JETL_PG_PORT JETL_RABBIT_PORT JETL_RABBIT_DIST_PORT JETL_SERVICES_TLS
#   JETL_BUILD_DIR
# scripts/services then sets JETL_DB, JETL_QUEUE and the rest, and each
# step sets JETL_BUILD_ROOT. JETL_CONFIG=/dev/null: no /etc/jetl/jetl.conf
# of this machine reaches a test (the tests that read a file name theirs).
jetl_test_env_keep=" JETL_PG_PORT JETL_RABBIT_PORT JETL_RABBIT_DIST_PORT JETL_SERVICES_TLS JETL_BUILD_DIR "
for jetl_test_env_v in $(compgen -e); do
  case "$jetl_test_env_v" in
    JETL_*|PG*|AMQP*)
      [[ $jetl_test_env_keep == *" $jetl_test_env_v "* ]] || unset "$jetl_test_env_v" ;;
  esac
done
unset jetl_test_env_v jetl_test_env_keep
export JETL_CONFIG=/dev/null
