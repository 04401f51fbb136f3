#ifndef HVAGENT_CPROCESS_H
#define HVAGENT_CPROCESS_H
#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+), which Swift's Glibc module does not
/// export: close every descriptor >= low in the child. Returns 0 or an errno value.
int cprocess_addclosefrom(posix_spawn_file_actions_t *actions, int low);

#endif
