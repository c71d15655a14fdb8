# Every preset of CMakePresets.json is built by the project's own tests, so a
# change that breaks one (a clang-only warning under -Werror, a sanitizer
# build) fails `./tlsclose selftest` instead of rotting unseen:
#   presets.fuzz  clang, every target plus the libFuzzer targets, then each
#                 fuzz target runs a few seconds from its seed corpus;
#   presets.asan  AddressSanitizer + UBSan build of every target (its tests run
#                 in the CI workflow's asan job: `ctest --preset asan`).
# Both build in their own trees (build-fuzz/, build-asan/) beside build/.
find_program(TLSCLOSE_CLANG clang)
find_program(TLSCLOSE_NINJA ninja)
if(NOT TLSCLOSE_CLANG OR NOT TLSCLOSE_NINJA)
  message(STATUS "presets: clang or ninja missing; the presets.* tests are not registered")
  return()
endif()
add_test(NAME presets.fuzz
         COMMAND ${CMAKE_COMMAND} -DPRESET=fuzz -DTEST=ON -P ${PROJECT_SOURCE_DIR}/cmake/check_preset.cmake
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
add_test(NAME presets.asan
         COMMAND ${CMAKE_COMMAND} -DPRESET=asan -P ${PROJECT_SOURCE_DIR}/cmake/check_preset.cmake
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(presets.fuzz presets.asan PROPERTIES LABELS presets TIMEOUT 1200)
