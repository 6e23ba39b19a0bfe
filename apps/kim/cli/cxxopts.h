// cxxopts, configured for kim: repeatable flags keep each value whole (Docker's stringArray), so
// `--build-arg A=1,2` stays one value; comma-splitting is done only for flags that ask for it.
#ifndef KIM_APPS_KIM_CLI_CXXOPTS_H_
#define KIM_APPS_KIM_CLI_CXXOPTS_H_

#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#endif  // KIM_APPS_KIM_CLI_CXXOPTS_H_
