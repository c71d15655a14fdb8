# Builds one CMake preset from scratch-or-current and, where the preset has
# tests of its own, runs them: the `presets.*` ctest entries, so that no preset
# rots unseen (cmake/presets.cmake). Run as
#   cmake -DPRESET=NAME [-DTEST=ON] -P cmake/check_preset.cmake
# from the source directory. Fails (exit 1) on the first step that fails;
# every preset builds with -Werror.
if(NOT PRESET)
  message(FATAL_ERROR "check_preset.cmake: -DPRESET=NAME is required")
endif()

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "preset ${PRESET}: `${shown}` failed (${rc})")
  endif()
endfunction()

step(${CMAKE_COMMAND} --preset ${PRESET})
step(${CMAKE_COMMAND} --build --preset ${PRESET})
if(TEST)
  step(${CMAKE_CTEST_COMMAND} --preset ${PRESET})
endif()
