# The mock peer's own record layer: traffic keys (key_schedule.c) and record
# protection (record_layer.c), on OpenSSL EVP only. Included from
# peers/CMakeLists.txt; the tests under peers/tests carry the label "peer".
add_library(tlsclose_record STATIC
  ${CMAKE_CURRENT_LIST_DIR}/key_schedule.c
  ${CMAKE_CURRENT_LIST_DIR}/record_layer.c)
target_include_directories(tlsclose_record PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(tlsclose_record PUBLIC tlsclose_common OpenSSL::Crypto)

add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/tests)
