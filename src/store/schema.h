/* schema.h - the list of migrations (DDL text). */
#ifndef JL_STORE_SCHEMA_H
#define JL_STORE_SCHEMA_H

struct jl_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct jl_migration jl_migrations[];
extern const int jl_migration_count;

#endif
