# Flow tests: each runs at 1, 2 and 4 ranks through mpiexec.
# SPDX-License-Identifier: BSD-3-Clause
foreach(t test_flow_map test_flow_chain test_flow_retry test_flow_upstream
          test_flow_cancel test_flow_as_completed test_flow_future_args
          test_flow_encode_errors test_flow_isolate)
  rf_add_test(${t} RANKS 1 2 4 TIMEOUT 120)
endforeach()
rf_add_test(test_flow_deferred RANKS 1 TIMEOUT 60)
rf_add_test(test_flow_io RANKS 1 2 4 TIMEOUT 120 ARGS --io-slots 3)
rf_add_test(test_flow_parallel INTERNAL RANKS 1 4 7 TIMEOUT 180)
rf_add_test(test_flow_nested INTERNAL RANKS 1 2 4 TIMEOUT 120)
add_test(NAME ts_as_task
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ts_as_task.sh ${MPIEXEC_EXECUTABLE}
          $<TARGET_FILE:timeseries_summary>)
set_tests_properties(ts_as_task PROPERTIES TIMEOUT 180 LABELS "jobs"
                     ENVIRONMENT "${RF_TEST_ENV}")
add_test(NAME parallel_pi_job
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/parallel_pi.sh ${MPIEXEC_EXECUTABLE}
          $<TARGET_FILE:parallel_pi>)
set_tests_properties(parallel_pi_job PROPERTIES TIMEOUT 120 LABELS "jobs"
                     ENVIRONMENT "${RF_TEST_ENV}")
foreach(n 1 4 7)
  set_property(TEST test_flow_parallel_np${n} APPEND PROPERTY ENVIRONMENT
               RANKFLOW_FAKE_NODES=$<IF:$<EQUAL:${n},1>,1,2>)
endforeach()
rf_add_test(test_registry_mismatch RANKS 2 4 TIMEOUT 60
            PASS_REGEX "registries differ.*rank [13]")
rf_add_test(test_flow_unregistered RANKS 1 3 TIMEOUT 60
            PASS_REGEX "task 'no_such_task' is not registered")
# Runs alone: 8 ranks on 2 cores, measuring CPU time.
rf_add_test(test_idle_cpu RANKS 8 TIMEOUT 120 SERIAL)

# Exit codes and signals, through scripts.
rf_add_test(test_flow_sleepy ARGS --seconds 0.05)  # builds the program; smoke test
set_tests_properties(test_flow_sleepy PROPERTIES LABELS "cli")
set(expect ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)
set(mpi ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG})
function(rf_add_cli_test name code regex)
  add_test(NAME ${name} COMMAND ${expect} ${code} "${regex}" ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT 60 LABELS cli
                       ENVIRONMENT "${RF_TEST_ENV}")
endfunction()
set(hello $<TARGET_FILE:hello_flow>)
set(sleepy $<TARGET_FILE:test_flow_sleepy>)
rf_add_cli_test(cli_help 0 "^  --log-level LEVEL" ${hello} --help)
rf_add_cli_test(cli_version 0 "rankflow [0-9]+\\.[0-9]+" ${hello} --version)
rf_add_cli_test(cli_short_help 0 "^Usage: hello_flow \\[options\\]" ${hello} -h)
rf_add_cli_test(cli_unknown_flag 2 "^hello_flow: unknown flag '--bogus'; see --help$"
                ${hello} --bogus)
rf_add_cli_test(cli_bad_int 2 "--n: 'ten' is not an integer.*see --help" ${hello} --n ten)
rf_add_cli_test(cli_out_of_range 2 "--n: '0' is not an integer in 1" ${hello} --n 0)
rf_add_cli_test(cli_missing_value 2 "--n needs a value" ${hello} --n)
rf_add_cli_test(cli_positional 2 "unexpected argument 'extra'" ${hello} extra)
rf_add_cli_test(cli_bad_log_level 2 "unknown log level 'loud'" ${hello} --log-level loud)
rf_add_cli_test(cli_usage_rank0_only 2 "^hello_flow: unknown flag '--x'; see --help$"
                ${mpi} 3 --oversubscribe ${hello} --x)
rf_add_cli_test(cli_hello_4_ranks 0 "sum of squares 1..1000 = 333833500 \\(4 ranks\\)"
                ${mpi} 4 --oversubscribe ${hello} --n 1000)
rf_add_cli_test(cli_quiet_log 0 "^sum of squares" ${hello} --log-level warn)
rf_add_cli_test(cli_failed_tasks_exit_1 1 "2 failed" ${mpi} 3 --oversubscribe
                ${sleepy} --tasks 5 --fail 2 --seconds 0)
rf_add_cli_test(cli_failed_tasks_exit_1_np1 1 "2 failed" ${sleepy} --tasks 5 --fail 2 --seconds 0)
set(signal_env ${RF_TEST_ENV})
if(RANKFLOW_SANITIZE)
  # Under the sanitizers these tests check the stop itself (exit 75, no
  # error, no leak); LeakSanitizer's exit-time scan can take seconds on a
  # busy machine, so the 0.5 s goal is timed by the release build only.
  list(APPEND signal_env SIGNAL_STOP_LIMIT=15.0)
endif()
foreach(sig TERM INT USR1)
  foreach(n 1 3)
    add_test(NAME signal_${sig}_np${n}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/signal_stop.sh ${MPIEXEC_EXECUTABLE}
              ${sleepy} ${n} ${sig})
    set_tests_properties(signal_${sig}_np${n} PROPERTIES TIMEOUT 60
      LABELS "cli;signal" ENVIRONMENT "${signal_env}" RUN_SERIAL TRUE)
  endforeach()
endforeach()
# The journal: kill -9 and resume, drain and rerun, torn and foreign
# journals, --drain-grace, the timeseries frame after a resume.
rf_add_test(test_flow_journal ARGS --markers /dev/null --tasks 1)
set_tests_properties(test_flow_journal PROPERTIES LABELS "cli")
foreach(n 1 3)
  add_test(NAME journal_resume_np${n}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/journal_resume.sh ${MPIEXEC_EXECUTABLE}
            $<TARGET_FILE:test_flow_journal> ${n} ${hello}
            $<TARGET_FILE:timeseries_summary>)
  set_tests_properties(journal_resume_np${n} PROPERTIES TIMEOUT 240
    LABELS "cli;signal;journal" ENVIRONMENT "${signal_env}" RUN_SERIAL TRUE)
endforeach()
# The same with the tasks on I/O slots (threads that see the stop).
foreach(sig TERM USR1)
  foreach(n 1 3)
    add_test(NAME signal_${sig}_io_np${n}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/signal_stop.sh ${MPIEXEC_EXECUTABLE}
              ${sleepy} ${n} ${sig} --io --tasks 20 --io-slots 2)
    set_tests_properties(signal_${sig}_io_np${n} PROPERTIES TIMEOUT 60
      LABELS "cli;signal" ENVIRONMENT "${signal_env}" RUN_SERIAL TRUE)
  endforeach()
endforeach()

# Hostile bytes in either direction: exit 3 with one message, no hang.
rf_add_test(test_fault_garbage INTERNAL RANKS 2 3 TIMEOUT 60 LABELS fault
            PASS_REGEX "rank 1: malformed message: count larger than the message")
foreach(n 2 3)
  set_property(TEST test_fault_garbage_np${n} APPEND PROPERTY ENVIRONMENT FORGE_TO=worker)
  add_test(NAME test_fault_garbage_to_coordinator_np${n}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} --oversubscribe
            $<TARGET_FILE:test_fault_garbage>)
  set_tests_properties(test_fault_garbage_to_coordinator_np${n} PROPERTIES
    TIMEOUT 60 LABELS "mpi;fault" ENVIRONMENT "${RF_TEST_ENV};FORGE_TO=coordinator"
    PASS_REGULAR_EXPRESSION "error .*malformed message: count larger than the message")
endforeach()

# The version is the header's, in the library and in --version.
rf_add_cli_test(cli_version_is_header 0 "\\(rankflow ${PROJECT_VERSION}\\)$" ${hello} --version)
# The shared library: SONAME, and exactly the header's functions exported.
add_test(NAME shared_exports
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_exports.sh $<TARGET_FILE:rankflow>
          ${PROJECT_SOURCE_DIR}/include/rankflow.h ${PROJECT_VERSION_MAJOR})
set_tests_properties(shared_exports PROPERTIES LABELS unit TIMEOUT 30)
# Every source file names its licence (SPDX).
add_test(NAME spdx_lines COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_spdx.sh
         ${PROJECT_SOURCE_DIR})
set_tests_properties(spdx_lines PROPERTIES LABELS unit TIMEOUT 30)

# Every public declaration is documented in the header.
add_test(NAME header_docs COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_header_docs.sh
         ${PROJECT_SOURCE_DIR}/include/rankflow.h)
set_tests_properties(header_docs PROPERTIES LABELS unit TIMEOUT 30)

# Valgrind (memcheck) on flow tests at 1 and 3 ranks: no invalid access, no
# leak outside Open MPI (tests/valgrind.supp). Not with the sanitizers.
if(NOT RANKFLOW_SANITIZE)
  find_program(VALGRIND valgrind REQUIRED)
  set(vg ${VALGRIND} -q --error-exitcode=9 --leak-check=full
      --errors-for-leak-kinds=definite,indirect --num-callers=50
      --suppressions=${CMAKE_CURRENT_SOURCE_DIR}/valgrind.supp)
  foreach(t test_flow_upstream test_flow_cancel test_flow_retry
            test_flow_future_args test_flow_as_completed test_flow_chain
            test_flow_step test_ts_summary_exact test_flow_io test_flow_isolate)
    foreach(n 1 3)
      add_test(NAME valgrind_${t}_np${n}
        COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} --oversubscribe
                ${vg} $<TARGET_FILE:${t}>)
      set_tests_properties(valgrind_${t}_np${n} PROPERTIES TIMEOUT 300
        LABELS "mpi;valgrind" ENVIRONMENT "${RF_TEST_ENV}")
    endforeach()
  endforeach()
endif()

rf_add_test(test_flow_memory INTERNAL RANKS 1 3 TIMEOUT 180)
# Task log lines: "[rank R] warn  talk-<16 hex>: message"; debug dropped.
rf_add_test(test_flow_log RANKS 1 2 TIMEOUT 60
            PASS_REGEX "\\[rank [01]\\] warn  talk-[0-9a-f]+: warned from attempt 1")
set_tests_properties(test_flow_log_np2 PROPERTIES FAIL_REGULAR_EXPRESSION "a debug line")
set_property(TEST test_flow_log_np1 APPEND PROPERTY ENVIRONMENT RANKFLOW_LOG=debug)
set_property(TEST test_flow_log_np1 PROPERTY PASS_REGULAR_EXPRESSION
             "\\[rank 0\\] debug talk-[0-9a-f]+: a debug line")

# Regressions found in review, each once a reproducer.
rf_add_test(test_regress_drain_cancel RANKS 2 TIMEOUT 60)
rf_add_test(test_regress_submit_oom INTERNAL RANKS 1 TIMEOUT 60 LABELS fault)
rf_add_test(test_regress_retry_heap RANKS 1 TIMEOUT 60)
rf_add_test(test_regress_timeout_inline RANKS 1 TIMEOUT 60)
rf_add_test(test_regress_map_fail RANKS 1 2 TIMEOUT 60 FAIL_REGEX "ran although")
rf_add_test(test_regress_cancel_overtake RANKS 2 TIMEOUT 60 FAIL_REGEX "ran to the end")
rf_add_test(test_regress_wire_id INTERNAL RANKS 2 TIMEOUT 60)

# The timeseries summary against a reference computed by sorting.
rf_add_test(test_ts_summary_exact TIMESERIES RANKS 1 2 4 TIMEOUT 120)
rf_add_test(test_frame_value INTERNAL LABELS unit)
# The same seed gives bitwise the same frame at any rank count.
add_test(NAME ts_summary_same_bits
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/same_output.sh ${MPIEXEC_EXECUTABLE}
          $<TARGET_FILE:test_ts_summary_exact> 1 2 3 4)
set_tests_properties(ts_summary_same_bits PROPERTIES TIMEOUT 180
  LABELS "mpi" ENVIRONMENT "${RF_TEST_ENV}")

# The timeseries job end to end, read back by pandas, h5py and h5dump.
add_test(NAME ts_job_pandas
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ts_job_check.py
          $<TARGET_FILE:timeseries_summary> ${MPIEXEC_EXECUTABLE})
set_tests_properties(ts_job_pandas PROPERTIES TIMEOUT 180 LABELS "mpi;cli"
                     ENVIRONMENT "${RF_TEST_ENV}")
set(ts $<TARGET_FILE:timeseries_summary>)
rf_add_cli_test(ts_help 0 "--partition-freq FREQ" ${ts} --help)
rf_add_cli_test(ts_bad_unit 2 "^timeseries_summary: --freq: unknown unit 'q'.*; see --help$"
                ${ts} --freq 5q)
rf_add_cli_test(ts_zero_count 2 "--freq: .*'0s'.*see --help" ${ts} --freq 0s)
rf_add_cli_test(ts_end_before_start 2 "--end .* is not after --start.*see --help"
                ${ts} --start 2001 --end 2000)
rf_add_cli_test(ts_not_multiple 2 "not a multiple of --freq.*see --help"
                ${ts} --freq 7min --partition-freq 1h)
rf_add_cli_test(ts_no_partition 2 "no whole.*partition.*see --help"
                ${ts} --start 2000-01-01 --end 2000-01-03)
rf_add_cli_test(ts_bad_date 2 "--start: '2000-13' is not a date.*see --help"
                ${ts} --start 2000-13)
rf_add_cli_test(ts_bad_output 2 "--output: cannot create '/nonexistent/dir/s.h5'.*see --help"
                ${ts} --output /nonexistent/dir/s.h5)
rf_add_cli_test(ts_bad_seed 2 "--seed: '-1' is not an integer" ${ts} --seed -1)
rf_add_test(test_flow_step RANKS 1 2 4 TIMEOUT 120)
rf_add_cli_test(ts_write_and_input 2 "--write-data and --input cannot be used together"
                ${ts} --input x.h5 --write-data y.h5)
rf_add_cli_test(ts_input_with_start 2 "--input takes start from the file; drop --start"
                ${ts} --input x.h5 --start 2001)
rf_add_cli_test(ts_bad_write_data 2 "--write-data: cannot create '/nonexistent/d.h5'"
                ${ts} --write-data /nonexistent/d.h5)

# Progress: lines, tty, off, quiet (a slice of the report issue).
add_test(NAME progress_modes COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/progress_check.sh
         ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:test_flow_sleepy>)
set_tests_properties(progress_modes PROPERTIES TIMEOUT 120 LABELS "cli"
                     ENVIRONMENT "${RF_TEST_ENV}")
rf_add_cli_test(cli_bad_progress 2 "--progress: unknown mode 'loud'" ${hello} --progress loud)
rf_add_cli_test(cli_bad_interval 2 "--progress-interval: '0' is not a number in" ${hello}
                --progress-interval 0)
# The JSON run report (--report).
add_test(NAME report_json
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/report_check.py
          ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:test_flow_retry>
          $<TARGET_FILE:test_flow_sleepy>)
set_tests_properties(report_json PROPERTIES TIMEOUT 180 LABELS "mpi;cli"
                     ENVIRONMENT "${RF_TEST_ENV}" RUN_SERIAL TRUE)
rf_add_cli_test(ts_same_output 2 "--write-data and --output name the same file"
                ${ts} --write-data s.h5 --output s.h5)
rf_add_cli_test(ts_output_dir 2 "--output: cannot create '/tmp': Is a directory"
                ${ts} --output /tmp)
rf_add_cli_test(ts_input_with_seed 2 "--input takes seed from the file; drop --seed"
                ${ts} --input x.h5 --seed 5)
rf_add_test(test_regress_step_after_fatal INTERNAL RANKS 2 3 TIMEOUT 60 LABELS fault)

# Faults contained: crashes, exits, hangs, time limits and drains
# (tests/faults.sh, on the flow of tests/fault_flow.c).
add_executable(fault_flow fault_flow.c)
target_link_libraries(fault_flow PRIVATE rankflow)
foreach(n 1 3)
  add_test(NAME faults_np${n}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/faults.sh ${MPIEXEC_EXECUTABLE}
            $<TARGET_FILE:fault_flow> ${n})
  set_tests_properties(faults_np${n} PROPERTIES TIMEOUT 240 LABELS "fault"
                       ENVIRONMENT "${RF_TEST_ENV}")
endforeach()
# These tasks crash on purpose: under the sanitizers a task host must die
# of its signal as it would in production (ASan's SEGV handler would turn
# it into exit 1), and an allocation past the memory cap must return NULL
# (ASan's allocator would abort).
if(RANKFLOW_SANITIZE)
  foreach(t test_flow_isolate_np1 test_flow_isolate_np2 test_flow_isolate_np4
            faults_np1 faults_np3)
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:handle_segv=0:allocator_may_return_null=1")
  endforeach()
  foreach(n 1 3)
    set_property(TEST faults_np${n} APPEND PROPERTY ENVIRONMENT
                 FAULTS_DRAIN_LIMIT=15.0)
  endforeach()
endif()
