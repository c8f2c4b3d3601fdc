export declare const CHROMIUM: string;
export declare const CHROMIUM_BASE_ARGS: string[];
export declare const WEBGPU_ARGS: string[];
export declare const CHROMIUM_ARGS: string[];
