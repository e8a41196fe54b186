# pitwall_add_test(<name> SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s])
#
# One GoogleTest executable = one CTest entry. Suites that need real servers (Redis, PostgreSQL) start
# them once per executable in a gtest Environment (tests/support), so one entry per executable keeps
# the cost of a throw-away PostgreSQL cluster to one initdb per suite.
function(pitwall_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE pitwall_warnings ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE PITWALL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             PITWALL_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
