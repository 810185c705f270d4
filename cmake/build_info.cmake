# Run at every build (cmake -P): writes build_info.cpp with the current git sha and dirty flag.
# configure_file rewrites the file only when its content changes, so nothing recompiles otherwise.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE DIFFBENCH_GIT_SHA OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE _status OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT DIFFBENCH_GIT_SHA)
  set(DIFFBENCH_GIT_SHA "unknown")
endif()
if(_status)
  set(DIFFBENCH_GIT_DIRTY true)
else()
  set(DIFFBENCH_GIT_DIRTY false)
endif()
configure_file(${SOURCE_DIR}/src/report/build_info.cpp.in ${OUTPUT} @ONLY)
