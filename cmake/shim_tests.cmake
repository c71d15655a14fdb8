# tlsclose_shim_test: registers one ctest entry that runs a stack's shim
# tests with pytest.
#
#   tlsclose_shim_test(<test name> STACK <label> TESTS <path>...
#                      [LABELS <label>...]
#                      [PYTEST_ARGS <argument>...]
#                      [TIMEOUT <seconds, default 600>]
#                      [ENVIRONMENT <VAR=value>...])
#
# TESTS are pytest files or directories, relative to the source tree, where
# the entry runs; by convention a stack's tests live in tests/stacks/<stack>/
# (tests/README.md). PYTEST_ARGS go before them (e.g. -k io_memory). The entry
# is labelled "shim;<STACK>" plus LABELS and finds this build through
# TLSCLOSE_BUILD_DIR, its binaries and the test credentials through
# TLSCLOSE_BIN, TLSCLOSE_CERT and TLSCLOSE_KEY, plus any ENVIRONMENT given.
# Shim tests run against the mock peer, so without the tlsclose-peer target
# nothing is registered.
function(tlsclose_shim_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "STACK;TIMEOUT"
                        "TESTS;LABELS;PYTEST_ARGS;ENVIRONMENT")
  if(NOT TARGET tlsclose-peer)
    return()
  endif()
  if(NOT arg_STACK OR NOT arg_TESTS)
    message(FATAL_ERROR "tlsclose_shim_test(${name}): STACK and TESTS are required")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 600)
  endif()
  list(TRANSFORM arg_TESTS PREPEND ${PROJECT_SOURCE_DIR}/)
  add_test(NAME ${name}
    COMMAND ${PYTHON3} -m pytest -q -p no:cacheprovider ${arg_PYTEST_ARGS} ${arg_TESTS}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set(env
    TLSCLOSE_BUILD_DIR=${CMAKE_BINARY_DIR}
    TLSCLOSE_BIN=${CMAKE_RUNTIME_OUTPUT_DIRECTORY}
    TLSCLOSE_CERT=${TLSCLOSE_CERT}
    TLSCLOSE_KEY=${TLSCLOSE_KEY}
    ${arg_ENVIRONMENT})
  set_tests_properties(${name} PROPERTIES
    LABELS "shim;${arg_STACK};${arg_LABELS}"
    TIMEOUT ${arg_TIMEOUT}
    ENVIRONMENT "${env}")
endfunction()
