/** The CLI's tables are the core's: `lib/cli/demo.ts` imports it from here. */
export { formatTable } from '../core/format-table';
