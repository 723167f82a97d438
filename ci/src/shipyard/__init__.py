"""Pipeline-as-code for the scientific data platform, in three layers told apart by folder:
`module/` (the only code that imports dagger), `decide/` (pure decisions) and `tools/` (programs
that run inside step containers, without Dagger)."""
