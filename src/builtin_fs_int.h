/* builtin_fs_int.h — what the files of the built-in fs server share:
 * builtin_fs.c (the table, reads, grep), builtin_fs_tree.c (tree, glob,
 * file info) and builtin_fs_write.c (writes, edits, moves, directories). */
#ifndef MCPDECK_BUILTIN_FS_INT_H
#define MCPDECK_BUILTIN_FS_INT_H

#include "builtin.h"

#define FS_READ_CAP   (4u * 1024 * 1024)   /* bytes of text one read returns */
#define FS_WRITE_CAP  (4u * 1024 * 1024)   /* bytes one write or edit may leave */

/* Resolve a path argument through the jail (must_exist as in
 * pathjail_resolve); a refusal becomes an error result in *err. */
int fs_resolve(const struct builtin_ctx *ctx, const char *path, int must_exist, char **out,
               cJSON **err);
/* real (resolved, inside root) relative to root; "" for root itself. */
const char *fs_rel_to_root(const char *root, const char *real);

extern const char fs_tree_schema[], fs_glob_schema[], fs_info_schema[];
cJSON *fs_directory_tree(const struct builtin_ctx *ctx, const cJSON *args);
cJSON *fs_glob(const struct builtin_ctx *ctx, const cJSON *args);
cJSON *fs_get_file_info(const struct builtin_ctx *ctx, const cJSON *args);

extern const char fs_write_schema[], fs_edit_schema[], fs_move_schema[], fs_mkdir_schema[];
cJSON *fs_write_file(const struct builtin_ctx *ctx, const cJSON *args);
cJSON *fs_edit_file(const struct builtin_ctx *ctx, const cJSON *args);
cJSON *fs_move_file(const struct builtin_ctx *ctx, const cJSON *args);
cJSON *fs_create_directory(const struct builtin_ctx *ctx, const cJSON *args);

#endif
