/** How the directory-tree plugin describes itself (the tutorial's `plugin_config.yml`). */
export const pluginConfig = {
  id: '0b6c6b0e-3f3e-4f55-9d8e-5e2d6f0c9a11',
  name: 'Directory Tree',
  externalVersion: '0.1.0',
  buildNumber: '0.1.0',
  hostTypes: ['UNIX'],
  pluginType: 'STAGED',
  manualDiscovery: true,
  rootSquashEnabled: true,
  extendedStartStopHooks: false,
  defaultLocale: 'en-us',
  features: ['keepsModesTimesLinks', 'propagatesDeletions', 'excludes', 'resync'],
} as const;
