#include "gitops.h"
