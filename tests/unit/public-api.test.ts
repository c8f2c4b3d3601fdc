import { publicApiSuite } from '../shared/public-api-suite.ts';

publicApiSuite(['cpu', 'webgpu'], 'node');
