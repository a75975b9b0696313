import { buildSnapflowApp } from '../lib/infra/build-app';

// The CDK CLI runs this file; CDK_NAG=1 (npm run nag) adds the cdk-nag AWS Solutions checks.
const { app } = buildSnapflowApp({ bundle: true, validation: true, nag: process.env.CDK_NAG === '1' });
app.synth();
