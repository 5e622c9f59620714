/// Catalog introspection queries (`pg_catalog` lookups used by `bundle plan`). Filled in by the planner.
public enum CatalogQueries {}
