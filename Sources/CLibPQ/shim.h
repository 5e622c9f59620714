#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H
#include <libpq-fe.h>

/* PG_DIAG_* are char-literal macros that Swift cannot import. */
static inline char bundle_pg_diag_sqlstate(void) { return 'C'; }
static inline char bundle_pg_diag_severity(void) { return 'V'; }
static inline char bundle_pg_diag_message_primary(void) { return 'M'; }
static inline char bundle_pg_diag_message_detail(void) { return 'D'; }
static inline char bundle_pg_diag_message_hint(void) { return 'H'; }
static inline char bundle_pg_diag_statement_position(void) { return 'P'; }
static inline char bundle_pg_diag_context(void) { return 'W'; }
static inline char bundle_pg_diag_schema_name(void) { return 's'; }
static inline char bundle_pg_diag_table_name(void) { return 't'; }
static inline char bundle_pg_diag_column_name(void) { return 'c'; }
static inline char bundle_pg_diag_constraint_name(void) { return 'n'; }

#endif
