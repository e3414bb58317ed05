# Helpers for module folders (modules/<name>/CMakeLists.txt) and test suites.

# mw_registry_generate(OUT names...) - write a registry C file listing mw_<name>_module
function(mw_registry_generate out)
  set(MW_REGISTRY_EXTERNS "")
  set(MW_REGISTRY_ENTRIES "")
  foreach(name ${ARGN})
    string(APPEND MW_REGISTRY_EXTERNS "extern const MwModuleClass mw_${name}_module;\n")
    string(APPEND MW_REGISTRY_ENTRIES "\t&mw_${name}_module,\n")
  endforeach()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/registry.c.in ${out} @ONLY)
endfunction()

# mw_add_module(NAME sources... [LIBS libs...]) - the static library mwmod_NAME
function(mw_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(mwmod_${name} STATIC ${ARG_SOURCES})
  target_link_libraries(mwmod_${name} PUBLIC mwcore ${ARG_LIBS})
  target_include_directories(mwmod_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(mwmod_${name} PRIVATE G_LOG_DOMAIN="mailwarden-${name}")
endfunction()

# mw_add_check_test(NAME SOURCES... [LIBS ...] [LABELS ...] [TIMEOUT s])
# a check suite; links the test registry (every module + test modules) and,
# for suites that start the daemon, mwtestutil
function(mw_add_check_test name)
  if(NOT MW_BUILD_TESTS)
    return()
  endif()
  # accept both mw_add_check_test(NAME x ...) and mw_add_check_test(x ...)
  if(name STREQUAL "NAME")
    list(POP_FRONT ARGN name)
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE mwtestmods mwtestutil PkgConfig::CHECK ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE G_LOG_DOMAIN="mailwarden-test"
                             MW_TEST_SRCDIR="${CMAKE_CURRENT_SOURCE_DIR}")
  add_dependencies(${name} mailwarden-test mw-test-sink)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
