/** Replaced by the build (esbuild define) with package.json's version. */
declare const __DEN_VERSION__: string | undefined;
export const DEN_VERSION: string = typeof __DEN_VERSION__ === 'string' ? __DEN_VERSION__ : '0.0.0-dev';
