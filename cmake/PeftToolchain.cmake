# Compiler settings shared by every target peft builds itself.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# ccache makes a warm rebuild cost ~0.1 s a file; the sloppiness lets it cache compilations that use a PCH.
find_program(PEFT_CCACHE ccache)
if(PEFT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      "${CMAKE_COMMAND};-E;env;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;${PEFT_CCACHE}")
endif()

# Warnings for peft's own targets (not for third-party headers, which come in as system includes).
function(peft_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
    if(PEFT_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${PEFT_WARNINGS_AS_ERRORS}>:/WX>)
  endif()
endfunction()

# A precompiled header of the LibTorch module headers that plugins build on; `<torch/torch.h>` is never used
# (27 s a file here; `<torch/nn/module.h>` ~13 s). Measured on this codebase: PCH pays only in files that
# include those headers; CLI11, nlohmann-json and Catch2 files are dominated by code generation, where it does
# not (see README, "Build times"). So only targets that use LibTorch modules opt in.
function(peft_use_torch_pch target)
  if(PEFT_USE_PCH)
    target_precompile_headers(${target} PRIVATE <ATen/core/Tensor.h> <torch/nn/module.h>)
  endif()
endfunction()

# A plugin that ships with peft: built like a third-party one (peft_add_plugin, SDK only), into the build tree's
# lib/peft/plugins and installed into the prefix's.
function(peft_add_builtin_plugin target)
  peft_add_plugin(${target} ${ARGN}
    OUTPUT_DIRECTORY "${PEFT_PLUGIN_OUTPUT_DIR}"
    INSTALL_DESTINATION "${PEFT_PLUGIN_INSTALL_DIR}")
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  peft_set_warnings(${target})
  peft_use_torch_pch(${target})
endfunction()

# Adds every subfolder of the current folder that has a CMakeLists.txt: a new plugin folder needs no other edit.
function(peft_add_plugin_folders)
  file(GLOB children LIST_DIRECTORIES true RELATIVE "${CMAKE_CURRENT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}/*")
  list(SORT children)
  foreach(child IN LISTS children)
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt")
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
