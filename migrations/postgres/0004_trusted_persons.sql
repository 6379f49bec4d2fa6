-- A lightweight account role for trusted persons (a grandmother a parent
-- lets see a child's diary), created at their first State Services login.
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('pupil', 'parent', 'teacher', 'school_admin', 'trusted'));
