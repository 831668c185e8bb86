/** Types of scripts/build-web.mjs, for the tests and scripts that import it. */
export declare const WEB_DIST: string;
export declare function webBuildIsStale(): Promise<boolean>;
export declare function buildWeb(options?: { minify?: boolean; quiet?: boolean }): Promise<{
  dir: string;
  js: string;
  css: string;
  outputs: { name: string; bytes: number }[];
}>;
