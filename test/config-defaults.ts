import { loadConfig, type Config } from '../src/config';

/**
 * What documentation tests compare a shown default with: the configuration an environment loads to. `reload` is
 * left out: it is a closure over each call's own environment, so two loads never hold an equal one.
 */
export function loadedConfig(env: NodeJS.ProcessEnv): Omit<Config, 'reload'> {
  const { reload: _reload, ...config } = loadConfig(env);
  return config;
}
