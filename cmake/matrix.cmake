# The conformance matrix as ctest entries: one per case x default stack,
# named CASE@STACK, with a TIMEOUT and LABELS for the stack, TLS versions, IO
# modes, roles and the cited S*/R* statements.
# Stacks outside the tree join with -DTLSCLOSE_STACK_FILES="a.toml;b.toml"
# (relative paths are taken from the source directory): one entry per case x
# stack file, named CASE@NAME (docs/your-stack.md).
#
# The list is generated at configure time by harness/ctest_entries.py (the
# harness knows how to read cases; CMake does not), written to a file in the
# build tree and included from there. Every input of the list is a configure
# dependency, so adding, removing or editing a case reconfigures the build.
# A case that does not validate gets no entry and is reported as a warning
# here and by the `cases-check` entry, so configure keeps working while a
# case is being written.

if(NOT PYTHON3)
  find_program(PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
endif()

get_filename_component(_tlsclose_root ${CMAKE_CURRENT_LIST_DIR} DIRECTORY)
set(TLSCLOSE_STACK_FILES "" CACHE STRING
    "Stack files of stacks under test outside the tree (a ;-list): ctest entries CASE@NAME")
set(TLSCLOSE_MATRIX_FILE ${CMAKE_BINARY_DIR}/matrix/ctest-entries.cmake)
# Stack files the build generated (cmake/openssl_roots.cmake) join the same way.
get_property(_tlsclose_generated_stacks GLOBAL PROPERTY TLSCLOSE_GENERATED_STACK_FILES)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env PYTHONDONTWRITEBYTECODE=1
          ${PYTHON3} -m harness.commands.ctest_entries
          --root ${_tlsclose_root} --build ${CMAKE_BINARY_DIR}
          --output ${TLSCLOSE_MATRIX_FILE} --python ${PYTHON3}
          "--stack-files=${TLSCLOSE_STACK_FILES};${_tlsclose_generated_stacks}"
  WORKING_DIRECTORY ${_tlsclose_root}
  RESULT_VARIABLE _tlsclose_matrix_rc
  ERROR_VARIABLE _tlsclose_matrix_problems)

if(NOT _tlsclose_matrix_rc EQUAL 0)
  message(WARNING "conformance matrix not registered: harness/ctest_entries.py failed:\n"
                  "${_tlsclose_matrix_problems}")
  # Retry on the next build once the harness is fixed.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${_tlsclose_root}/harness ${_tlsclose_root}/cases)
  return()
endif()
if(_tlsclose_matrix_problems)
  message(WARNING "cases that do not validate have no matrix entry:\n"
                  "${_tlsclose_matrix_problems}")
endif()

include(${TLSCLOSE_MATRIX_FILE})
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TLSCLOSE_MATRIX_INPUTS})
