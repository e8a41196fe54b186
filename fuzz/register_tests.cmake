# Registers a short run of each fuzzer as a CTest test of the main (GCC, asan) build. The fuzzers
# themselves come from the separate clang build (`cmake --preset fuzz && cmake --build --preset fuzz`;
# `make test` does both); a fuzzer that was not built fails its test rather than being skipped.
# Included from tests/CMakeLists.txt.
#
# Runs are counted, not timed, so every run does the same amount of work: each count takes 10-20 s
# on the 2-core development machine. Run longer by hand: bash fuzz/run.sh <binary> <corpus> <runs>.
set(PITWALL_FUZZ_BIN_DIR "${PROJECT_SOURCE_DIR}/build/fuzz/bin"
    CACHE PATH "Where the fuzz preset puts the libFuzzer binaries the fuzz_* tests run")

set(_pitwall_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
foreach(_pitwall_fuzz_entry IN ITEMS fuzz_router:250000 fuzz_config:70000 fuzz_ws_frame:40000
                                     fuzz_accept_language:300000
                                     fuzz_id_token:1000000 fuzz_cron:600000
                                     fuzz_bridge_frame:150000 fuzz_jres:170000)
  string(REPLACE ":" ";" _pitwall_fuzz_pair ${_pitwall_fuzz_entry})
  list(GET _pitwall_fuzz_pair 0 _pitwall_fuzz_name)
  list(GET _pitwall_fuzz_pair 1 _pitwall_fuzz_runs)
  add_test(NAME ${_pitwall_fuzz_name}
           COMMAND bash ${_pitwall_fuzz_dir}/run.sh ${PITWALL_FUZZ_BIN_DIR}/${_pitwall_fuzz_name}
                   ${_pitwall_fuzz_dir}/corpus/${_pitwall_fuzz_name} ${_pitwall_fuzz_runs})
  set_tests_properties(${_pitwall_fuzz_name} PROPERTIES TIMEOUT 120 LABELS fuzz)
endforeach()
unset(_pitwall_fuzz_dir)
unset(_pitwall_fuzz_entry)
unset(_pitwall_fuzz_pair)
unset(_pitwall_fuzz_name)
unset(_pitwall_fuzz_runs)
