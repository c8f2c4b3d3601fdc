import { webgpuGradcheckSuite } from '../shared/webgpu-gradcheck-suite.ts';

webgpuGradcheckSuite('chromium');
