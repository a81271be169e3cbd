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
    # GCC 12 at -O3 in C++20 mode (LibTorch 2.x asks for C++20) warns that std::string's own memcpy may overlap or
    # run out of bounds, inside libstdc++ (GCC bugs 105329, 105651): false positives -Werror would make failures.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13
       AND Torch_VERSION VERSION_GREATER_EQUAL 2)
      target_compile_options(${target} PRIVATE -Wno-restrict -Wno-array-bounds -Wno-stringop-overread)
    endif()
    if(PEFT_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${PEFT_WARNINGS_AS_ERRORS}>:/WX>)
  endif()
endfunction()

# One precompiled header of the LibTorch headers that plugins build on, built once and reused by every plugin
# target (`<torch/torch.h>` is never used: 27 s a file here; `<torch/nn/module.h>` ~10 s). Measured here: it takes a
# vit source file from 15-19 s to 6-9 s, but costs ~4 s in a file that needs no LibTorch modules and ~30 s to
# build, so only plugin targets (whole folders of LibTorch-module code) use it. Flags GCC checks for a PCH
# (-Wpedantic, visibility, PIC) match those plugin targets.
function(peft_define_torch_pch)
  if(PEFT_USE_PCH)
    add_library(peft_torch_pch OBJECT "${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp")
    target_link_libraries(peft_torch_pch PRIVATE torch)
    set_target_properties(peft_torch_pch PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
    peft_set_warnings(peft_torch_pch)  # -Wpedantic changes predefined macros, which a PCH must match
    target_precompile_headers(peft_torch_pch PRIVATE <ATen/ATen.h> <torch/nn/module.h> <torch/nn/modules/linear.h>
                              <torch/nn/modules/conv.h> <torch/nn/modules/normalization.h> <torch/nn/modules/dropout.h>)
  endif()
endfunction()

function(peft_use_torch_pch target)
  if(PEFT_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM peft_torch_pch)
  endif()
endfunction()

# A plugin that ships with peft: built like a third-party one (peft_add_plugin, SDK only), into the build tree's
# lib/peft/plugins and installed into the prefix's.
function(peft_add_builtin_plugin target)
  peft_add_plugin(${target} ${ARGN}
    OUTPUT_DIRECTORY "${PEFT_PLUGIN_OUTPUT_DIR}"
    INSTALL_DESTINATION "${PEFT_PLUGIN_INSTALL_DIR}")
  set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  set_property(GLOBAL APPEND PROPERTY PEFT_BUILTIN_PLUGIN_TARGETS ${target})
  peft_set_warnings(${target})
  peft_use_torch_pch(${target})
endfunction()

# A method's code as a static library that plugins link (and tests reach inside): SDK-only, hidden visibility as a
# plugin's own code, the folder's headers public.
function(peft_add_method_library target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES")
  add_library(${target} STATIC ${ARG_SOURCES})
  target_link_libraries(${target} PUBLIC peft::sdk)
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  peft_set_warnings(${target})
  peft_use_torch_pch(${target})
endfunction()

# Adds every subfolder of the current folder that has a CMakeLists.txt: a new plugin folder needs no other edit.
# The folder names (each the plugin's name) are kept in the global property PEFT_BUILTIN_<KIND>S, so that the
# contract suite can check it covers every plugin the build makes.
# LIBRARIES names folders of code the plugins share: added first, not recorded as plugins.
function(peft_add_plugin_folders kind)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "LIBRARIES")
  foreach(library IN LISTS ARG_LIBRARIES)
    add_subdirectory(${library})
  endforeach()
  file(GLOB children LIST_DIRECTORIES true RELATIVE "${CMAKE_CURRENT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}/*")
  list(SORT children)
  foreach(child IN LISTS children)
    if(child IN_LIST ARG_LIBRARIES)
      continue()
    endif()
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt")
      add_subdirectory(${child})
      set_property(GLOBAL APPEND PROPERTY PEFT_BUILTIN_${kind}S ${child})
    endif()
  endforeach()
endfunction()
