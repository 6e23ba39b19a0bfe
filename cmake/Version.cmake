# Generates kim_version (version string and git commit) at every build, rewriting the file only
# when its content changes so that a commit does not relink more than it must.
set(KIM_VERSION_OUT ${CMAKE_BINARY_DIR}/generated/version_info.cc)
add_custom_target(kim_version_info
  COMMAND ${CMAKE_COMMAND} -DOUT=${KIM_VERSION_OUT} -DSRC=${PROJECT_SOURCE_DIR}
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${KIM_VERSION_OUT}
  COMMENT "kim version info")
add_library(kim_version STATIC ${KIM_VERSION_OUT})
add_dependencies(kim_version kim_version_info)
target_include_directories(kim_version PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                              $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(kim_version PROPERTIES EXPORT_NAME version)
