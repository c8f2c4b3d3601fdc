import { conformanceSuite } from '../shared/conformance-suite.ts';

conformanceSuite('node, Dawn');
