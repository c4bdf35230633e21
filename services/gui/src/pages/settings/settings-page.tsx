import { useAuth } from '../../auth/auth-context.js';
import { PageHeader } from '../../components/layout/app-shell.js';
import { TokensSection } from './tokens-section.js';
import { UsersSection } from './users-section.js';
import { VcentersSection } from './vcenters-section.js';

/** Settings: vCenters for everyone to see; users and API tokens for admins. */
export function SettingsPage() {
  const { can } = useAuth();
  return (
    <>
      <PageHeader title="Settings" description={can('administer') ? 'vCenters, users and API tokens.' : 'The vCenters this hub protects.'} />
      <VcentersSection />
      {can('administer') && (
        <>
          <UsersSection />
          <TokensSection />
        </>
      )}
    </>
  );
}
