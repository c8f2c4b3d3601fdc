import { trainSuite } from '../shared/train-suite.ts';

trainSuite(['webgpu', 'cpu'], 'chromium');
