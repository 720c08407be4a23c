#include "actfit/status.h"

const char *actfit_strerror(int status)
{
  switch (status) {
#define ACTFIT__XX(name, val, msg) case val: return msg;
    ACTFIT_STATUS_MAP(ACTFIT__XX)
#undef ACTFIT__XX
  }
  return "unknown status";
}

const char *actfit_status_name(int status)
{
  switch (status) {
#define ACTFIT__XX(name, val, msg) case val: return "ACTFIT_" #name;
    ACTFIT_STATUS_MAP(ACTFIT__XX)
#undef ACTFIT__XX
  }
  return "ACTFIT_UNKNOWN";
}

const char *actfit_version(void) { return ACTFIT_VERSION_STRING; }
