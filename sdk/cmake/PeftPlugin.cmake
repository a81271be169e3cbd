# peft_add_plugin(<target> SOURCES <file>... [OUTPUT_DIRECTORY <dir>] [INSTALL_DESTINATION <dir>])
#
# Builds a peft plugin: a loadable module (lib<target>.so) linked to peft::sdk only, with hidden visibility so
# nothing but its entry point (PEFT_PLUGIN) is exported. `peft` finds it in a folder named by PEFT_PLUGIN_PATH
# or in its own lib/peft/plugins.
function(peft_add_plugin target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY;INSTALL_DESTINATION" "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "peft_add_plugin(${target}): SOURCES is required")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE peft::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
  if(ARG_INSTALL_DESTINATION)
    install(TARGETS ${target} LIBRARY DESTINATION "${ARG_INSTALL_DESTINATION}")
  endif()
endfunction()

# peft_add_contract_test(<target> [NAME <test>] [METHOD <method>] [OPTIONS <key=value>...])
#
# Adds a CTest test (default name <target>_contract) that runs the method contract suite on the plugin <target>
# builds: `peft test-plugin $<TARGET_FILE:target>`, with the installed peft (PEFT_EXECUTABLE) or, inside peft's own
# build, its `peft` target. It checks, on a tiny ViT, an MLP without taps and a tiny causal LM, that the method starts
# equal to the backbone, trains exactly its own tensors, merges to the same outputs and round-trips its adapter file.
# METHOD checks only that method of the plugin (`--method`); OPTIONS sets its options instead of the defaults
# (`--option key=value`, TOML values as in [method.options]: r=4, schema="linear"; one method only). Call it once
# per set of options worth checking, each with its own NAME.
function(peft_add_contract_test target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "NAME;METHOD" "OPTIONS")
  if(NOT ARG_NAME)
    set(ARG_NAME "${target}_contract")
  endif()
  if(TARGET peft)
    set(peft_command "$<TARGET_FILE:peft>")
  elseif(PEFT_EXECUTABLE)
    set(peft_command "${PEFT_EXECUTABLE}")
  else()
    message(FATAL_ERROR "peft_add_contract_test(${target}): no peft executable (find_package(peft) sets PEFT_EXECUTABLE)")
  endif()
  set(selection)
  if(ARG_METHOD)
    list(APPEND selection --method "${ARG_METHOD}")
  endif()
  foreach(option IN LISTS ARG_OPTIONS)
    list(APPEND selection --option "${option}")
  endforeach()
  add_test(NAME "${ARG_NAME}" COMMAND "${peft_command}" test-plugin "$<TARGET_FILE:${target}>" ${selection})
  # Only the plugin under test and peft's own plugins: a PEFT_PLUGIN_PATH of the user's stays out of the check.
  set_tests_properties("${ARG_NAME}" PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1;PEFT_PLUGIN_PATH=")
endfunction()
