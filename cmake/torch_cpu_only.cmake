# LibTorch's CPU libraries as the target `torch`, for a CUDA-built LibTorch (pip's torch wheel) on a
# machine without the CUDA toolkit: TorchConfig.cmake of such a LibTorch stops with a fatal error
# when it cannot find the toolkit, though the CPU half (libtorch_cpu, libc10) needs none of it.
# Linking only those, the CUDA half is never loaded: the build is CPU-only, as a CPU LibTorch's is.
# Used by the top-level CMakeLists.txt and by the installed diffbenchConfig.cmake when
# DIFFBENCH_TORCH_CPU_ONLY is on (scripts/setup.sh sets it). Needs Torch_DIR or CMAKE_PREFIX_PATH.
if(TARGET torch)
  return()
endif()
find_file(_diffbench_torch_config TorchConfig.cmake
  HINTS ${Torch_DIR} PATH_SUFFIXES Torch share/cmake/Torch NO_CACHE)
if(NOT _diffbench_torch_config)
  message(FATAL_ERROR "DIFFBENCH_TORCH_CPU_ONLY: no TorchConfig.cmake found; pass "
    "-DTorch_DIR=$(python -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch")
endif()
get_filename_component(Torch_DIR ${_diffbench_torch_config} DIRECTORY)
get_filename_component(_diffbench_torch_prefix "${Torch_DIR}/../../.." ABSOLUTE)
add_library(torch INTERFACE IMPORTED)
foreach(_lib torch_cpu c10)
  find_library(_diffbench_${_lib} ${_lib} PATHS "${_diffbench_torch_prefix}/lib" NO_DEFAULT_PATH NO_CACHE REQUIRED)
  target_link_libraries(torch INTERFACE ${_diffbench_${_lib}})
endforeach()
target_include_directories(torch INTERFACE
  ${_diffbench_torch_prefix}/include ${_diffbench_torch_prefix}/include/torch/csrc/api/include)
target_compile_features(torch INTERFACE cxx_std_17)
find_package(Threads REQUIRED)
target_link_libraries(torch INTERFACE Threads::Threads)
set(TORCH_LIBRARY ${_diffbench_torch_cpu})
set(TORCH_INSTALL_PREFIX ${_diffbench_torch_prefix})
set(Torch_FOUND TRUE)
message(STATUS "Torch (CPU libraries only): ${_diffbench_torch_prefix}")
