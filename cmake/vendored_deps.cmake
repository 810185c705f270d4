# Dependencies from a folder instead of Debian's packages, for machines that have LibTorch but no
# package manager (the GPU machine: bench/gpu/kit.sh prepare fills the folder here, and it travels
# with the working tree). fmt, nlohmann/json, CLI11 and stb are used header-only; GoogleTest is
# built from its source by tests/CMakeLists.txt.
#   DIFFBENCH_DEPS_DIR/include/{fmt,nlohmann,CLI,stb}/   DIFFBENCH_DEPS_DIR/googletest/
foreach(_dir include/fmt include/nlohmann include/CLI include/stb googletest)
  if(NOT EXISTS ${DIFFBENCH_DEPS_DIR}/${_dir})
    message(FATAL_ERROR "DIFFBENCH_DEPS_DIR=${DIFFBENCH_DEPS_DIR} has no ${_dir}: run bench/gpu/kit.sh prepare")
  endif()
endforeach()
set(_deps_include ${DIFFBENCH_DEPS_DIR}/include)
add_library(fmt::fmt INTERFACE IMPORTED)
set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_deps_include}
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_deps_include})
add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_deps_include})
set(STB_INCLUDE_DIR ${_deps_include}/stb)
