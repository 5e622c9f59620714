#ifndef CLIBGIT2_SHIM_H
#define CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/mempack.h>

/* git_libgit2_opts is variadic: Swift cannot call it directly. */
static inline int bundle_git_disable_fsync(int disabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, disabled ? 0 : 1);
}
static inline int bundle_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

#endif
