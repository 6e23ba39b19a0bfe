# Installs libkim the way google/leveldb does: the public headers (include/kim/), the layers'
# static archives with an exported kimTargets, kimConfig.cmake (find_package(kim CONFIG), then
# target_link_libraries(app kim::kim)) and kim.pc for pkg-config; plus the two programs.
include(CMakePackageConfigHelpers)

set(KIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kim)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS kim_lib kim_connect kim_build kim_images kim_kube kim_core kim_proto kim_version
        EXPORT kimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT kimTargets NAMESPACE kim:: DESTINATION ${KIM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kimConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/kimConfig.cmake INSTALL_DESTINATION ${KIM_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kimConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/kimConfigVersion.cmake
        DESTINATION ${KIM_CMAKE_DIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/kim.pc.in ${CMAKE_CURRENT_BINARY_DIR}/kim.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(TARGETS kim kim-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
