-- Restore AdventureWorks2014 from the backup the aw-download service
-- fetched, and give medallion a read-only login.  Run by aw-restore.
IF DB_ID('AdventureWorks2014') IS NULL
BEGIN
    RESTORE DATABASE AdventureWorks2014
        FROM DISK = '/var/opt/mssql/backup/AdventureWorks2014.bak'
        WITH MOVE 'AdventureWorks2014_Data' TO '/var/opt/mssql/data/AdventureWorks2014_Data.mdf',
             MOVE 'AdventureWorks2014_Log' TO '/var/opt/mssql/data/AdventureWorks2014_Log.ldf';
END
GO
IF SUSER_ID('medallion_reader') IS NULL
    EXEC('CREATE LOGIN medallion_reader WITH PASSWORD = ''$(READER_PASSWORD)'', CHECK_POLICY = OFF');
GO
USE AdventureWorks2014;
GO
IF USER_ID('medallion_reader') IS NULL
BEGIN
    CREATE USER medallion_reader FOR LOGIN medallion_reader;
    ALTER ROLE db_datareader ADD MEMBER medallion_reader;
    -- row_estimate_method 'showplan_all' needs SHOWPLAN
    GRANT SHOWPLAN TO medallion_reader;
END
GO
