# Start-up time: a kim command must start in well under 10 ms, and the dynamic loader spends most
# of that binding the symbols of ~50 shared libraries (gRPC, protobuf, abseil...). Debian ships
# static archives of most of them, so the programs link those archives instead: same packages,
# same code, a fraction of the relocations (measured: kim --help 13 ms -> 7 ms).
#
# kim_prefer_static_imports() points every imported library target of this directory at its
# static archive when Debian has one. OpenSSL and zlib stay shared: cpprestsdk (shared only)
# uses them too, and two copies of OpenSSL in one process would not share their state.
function(kim_prefer_static_imports)
  # gRPC's Findre2 makes re2::re2 an INTERFACE target carrying pkg-config's "-lre2": point it at
  # the archive instead (RE2_LIBRARY_DIRS comes from that same pkg-config query).
  if(TARGET re2::re2)
    find_library(KIM_RE2_ARCHIVE NAMES libre2.a HINTS ${RE2_LIBRARY_DIRS})
    if(KIM_RE2_ARCHIVE)
      set_target_properties(re2::re2 PROPERTIES INTERFACE_LINK_LIBRARIES "${KIM_RE2_ARCHIVE}")
    endif()
  endif()
  get_property(imported DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS imported)
    if(target MATCHES "^(OpenSSL::|ZLIB::)")
      continue()
    endif()
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "_LIBRARY$" OR type STREQUAL "INTERFACE_LIBRARY")
      continue()
    endif()
    foreach(property IMPORTED_LOCATION IMPORTED_LOCATION_NONE IMPORTED_LOCATION_RELEASE
                     IMPORTED_LOCATION_RELWITHDEBINFO)
      get_target_property(location ${target} ${property})
      if(location AND location MATCHES "\\.so(\\.[0-9.]+)?$")
        string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" archive "${location}")
        if(EXISTS "${archive}")
          set_target_properties(${target} PROPERTIES ${property} "${archive}")
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()
