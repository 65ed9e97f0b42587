#!/usr/bin/env node
// A stand-in for `duckdb -c SQL`, for BenchmarkIngestVsDuckDB on a machine
// without the DuckDB CLI but with npm. Node resolves the package from the
// script's own folder, so copy the script where you install it:
//   mkdir /tmp/duck && cp duckdb-c.mjs /tmp/duck && cd /tmp/duck &&
//   npm install @duckdb/node-api
//   EARLYHELP_DUCKDB=/tmp/duck/duckdb-c.mjs EARLYHELP_BENCH_CHILDREN=100000 \
//     go test -run XXX -bench IngestVsDuckDB -benchtime 3x ./cmd/earlyhelp/
// It runs the statement on an in-memory database with every core, as the
// CLI does.
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
if (args.length !== 2 || args[0] !== '-c') {
  console.error('usage: duckdb-c.mjs -c SQL');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(args[1]);
