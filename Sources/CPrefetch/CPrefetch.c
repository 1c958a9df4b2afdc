// The header's inline function is the whole module; SwiftPM needs a source file to build it.
#include "CPrefetch.h"
